"""Word lists behind language detection.

Romanised lists are written the way people type on WhatsApp, not in a formal
transliteration; detection compares them after :func:`bot.language.normalise.fold_latin`,
so spelling variants that fold together (``nahi``/``nahee``, ``kaam``/``kam``,
``mujhe``/``muje``) need only one entry. ``CORE`` words are the short function words
and verb endings that turn up in nearly every message; ``VOCAB`` is the everyday and
helpline vocabulary. A word may appear under several languages: the detector works out
how much each word tells apart by itself.

Native lists exist only where one script serves two of our languages (Devanagari:
Hindi/Marathi; Bengali script: Bengali/Assamese).

Edit freely: adding words a real user typed is the best way to improve detection. Run
``pytest tests/unit/language`` afterwards; the accuracy thresholds there will tell.
"""

from __future__ import annotations

# Words every language's speakers use in chat: greetings, English loanwords of the
# helpline's world, and fillers. They say nothing about the language of a message.
NEUTRAL = """
hi hii hiii hello helo hlo hey hy ok okay okk k kk ya yes yeah no nope thanks thanku
thankyou thx tq ty welcome sorry please pls plz plss sir madam mam maam bro dear
good morning gm gn night bye byee haha hahaha lol hmm hm umm oh ohh wow nice super
help helpline number no. phone mobile call missed msg message sms whatsapp video
ration card aadhar aadhaar adhar police station complaint fir case court lawyer
salary payment bank account atm upi paytm otp sim recharge online form office
agent owner company contractor supervisor manager boss factory hotel site
ticket train bus station passport visa doctor hospital medicine covid tension
free fast urgent emergency problem sos shram eshram pm kisan scheme id
room lock open close delhi mumbai surat pune chennai bangalore bengaluru kerala
hyderabad kolkata dubai gujarat punjab ludhiana nashik
thekedar thikadar thikedar theka dhamki shikayat roj roz daftar labour labor
majdur mazdoor report
"""

CORE: dict[str, str] = {
    "en": """
        i me my mine we us our you your he she it its they them their this that these
        those the a an is am are was were be been being do does did dont doesnt didnt
        not cant cannot wont have has had will would can could should shall must to of
        in on at for from with by about since till until and but or so because if then
        what where when why how who which there here any some all very too much many
        im ive its thats
    """,
    "hi": """
        hai hain ho hu hun hoon tha thi the main mai mein mujhe mujhko mera meri mere
        hum humko hame humein hamara hamari hamare aap aapka aapki aapke aapko tum
        tumhara tumhari tumko tu tera teri vo woh voh wo ye yeh yah unka unki unko usko
        uska uski use unhe kya kyu kyun kyon kaise kaisa kaisi kab kahan kaha kitna
        kitne kaun koi kuch kuchh sab bahut bohot bahot bhot nahi nahin nhi na mat aur
        lekin magar par pe se ko ka ki ke ne bhi hi toh abhi ab jab tab phir fir agar
        kyunki isliye
    """,
    "mr": """
        ahe aahe ahes ahet ahot aahot nahi nahit nako mala mi majha majhi majhe majhya
        maza mazi maze mazya tu tula tuza tumhi tumhala tumcha tumchi tumche amhi amhala
        amcha amchi amche aamhi to ti te tyala tila tyanna tyancha kay ka kasa kashi
        kase kuthe kadhi kiti kon koni konich kahi kahich khup ani pan mhanun ata atta
        ithe tithe ikde tikde zala jhala zali jhali hota hoti hote
    """,
    "bn": """
        ami amar amake amay amra amader tumi tomar tomake tomra apni apnar apnake
        apnara apnader se o ora tar take ki keno kothay kobe kokhon kivabe kibhabe
        kemon koto ke kar keu kichu kono sob shob onek khub beshi na nai nei ar r kintu
        tai jodi tahole ekhon aj kal ekhane okhane theke jonno sathe kache achi ache
        achen acho chilo hobe hoy holo hocche
    """,
    "as": """
        moi mur mor muk mok ami amar amak amalok apuni apunar apunalok apunak tumi
        tumar tumak tai tar tak si ki kio kot kenekoi ketiya kiman kun kunu kunewe
        kunubai eku sob bohut bor olop besi nai nohoy nohole aru kintu jodi tente
        etiya aji kali iyat tat ase asu asil ne neki hoi hoise hol hobo
    """,
    "or": """
        mu mo mote mora moro ame amaku ama amara tume tuma tumaku tumara apana apananka
        apanaku se sie sei ta ki kana kahin kahinki kouthi kebe kemiti kete kie kahaku
        kehi kichi sabu bahut bahuta besi nahi nahin au kintu jadi tahele ebe pare
        aji kali ethi sethi achi acha achhi thila hela heuchi re ru ku ra
    """,
    "gu": """
        hu mane maru mari maro mara mare tame tamne tamaru tamari tamaro ame amne amaru
        amari amaro te tene e shu su kem kyare kya kyan ketla ketlu kon koi kai kaik
        badhu badha bahu khub vadhare nathi ane pan ke jo to have pachi ahi ahiya tya
        che chhe cho chho chu chhu chie hatu hati hato hata thi ma nu ni no ne
    """,
    "pa": """
        main mainu menu mera meri mere tusi tuhanu tuhada tuhadi tuhade asi assi sanu
        sada sadi sade oh ohnu eh ehnu ki kiven kiwe kidan kitthe kithe kitho kado
        da di de vi layi lai nal tenu ohda ohdi sakda sakdi sakde kyon
        kinna kaun koi kuch sab bahut bohat zyada ghatt nahi nai na te par je taan hun
        ajj kal ithe othe hai haan ho si see naal vich ch nu ton tak ji yaar aa ae
    """,
    "ta": """
        naan nan enaku enakku ennai ennoda en nee unaku unakku unga ungal ungaluku
        neenga naanga nanga engal engala enga avan aval avanga adhu athu idhu ithu edhu
        enna ennachu epdi eppadi eppo enge yaar yaaru evlo ethana ellam romba konjam
        niraya illa illai venda vendam aana aanal apram appuram ippo ippa inniku
        inga anga la ah ku kitta oda kooda da di
    """,
    "te": """
        nenu naaku naku nannu naa meeru miru mee meeku memu mem maaku maa mammalni
        vaadu aame vallu atanu adi idi emi em enti ela eppudu ekkada evaru enta entha
        anni chala konchem ekkuva takkuva ledu leda levu kaadu kani kaani ayithe inka
        ippudu taruvata tarvata ninna repu ikkada akkada undi unnanu unnaru unnadu
        andi garu lo ki ku tho nunchi kosam
    """,
    "kn": """
        naanu nanu nange nanage nanna nannanna neevu nimge nimage nimma naavu namge
        namage namma nam avanu avalu avaru adu idu enu yenu yaake hege yavaga elli
        yaaru eshtu ella tumba swalpa jaasti kammi illa beda aadre adre matte eega
        amele aamele ninne naale ivattu illi alli ide idini ideeni iddare ri inda
        jothe ge antha anta
    """,
    "ml": """
        njan enikku enik enne ente ningal ningalkku ningalude ninte nee ninakku
        njangal njangalkku njangale avan aval avar athu ithu enthu entha enthanu
        engane eppo evide aara aaru ethra ellam orupadu valare kure kooduthal
        kurachu kuravu illa alla venda pakshe pinne ippo innale naale innu ivide
        avide undu aanu aano alle ano da eda edi il kku ude
    """,
}

VOCAB: dict[str, str] = {
    "en": """
        help need want going go went come came back home money pay paid work working
        worked job boss months month days day week weeks please talk speak someone
        anyone nobody anything nothing eaten eat food scared afraid stuck locked
        brother sister son daughter wife husband children child family village apply
        register lost know understand understood thank feel feeling sad stress stressed
        die kill live life anymore save tell told said says let letting out still yet
        again later now today tomorrow yesterday get got give given take took send
        received receive wages hurt beat beating threat threatened hungry sick ill
        alone tired trapped escape run away house rent debt loan owe boss sleep cry
        crying worried worry hello listen listening call calling reply someone safe
        unsafe kidnapped forced paying nobody everyone left leave allowed allow
        """,
    "hi": """
        madad sahayata chahiye chahie karo karna karni karu karun kare karte karta
        karti kiya kar raha rahi rahe gaya gayi gaye gye diya diye dena dete deta deti
        lena le liya lo milega milegi mila mili milta milti jana jaana jao jaunga
        jaungi aana aaya aayi aao bolo bol bolta bolti bata batao bataiye samajh samjha
        samjh pata dar darr lag lagta lagti pareshan dukhi udaas maar mara maarta gaali
        band fasa fase phasa phase chhod chod khana khaya pani rupaye rupay hazaar
        mahine mahina din raat subah shaam theek thik accha achha acha haan ji
        hamesha sirf wapas vapas matlab sakta sakte sakti chahta chahti hua hui hue
        hota hoti hoga hogi jaise waise apna apni apne paisa paise pagar pagaar
        tankhwah majduri mazdoori seth malik thekedar ghar gaon bhai bhaiya didi behen
        bahan beta beti bachche bacche bachhe log logon kaam jyada zyada thoda jaldi
        kal aaj baat bat sun suno sunta sunti koshish zindagi jeena jeene marna
        kamra kamre rakha rakhe rakh dikkat musibat bachao bachaiye jaan shukriya
        dhanyawad dhanyavad kripya kijiye dijiye bhej bhejo chahiye chaiye
    """,
    "mr": """
        madat pahije pahijet hava havi have dya ghya sanga bola bolto bolte bolat
        karto karte karat kara karu karaycha karaychi karaychya jaycha jaychi jayche
        jaych yeto yete yet ala aala ali aali gela geli gele dila dili dile ghetla
        ghetli milala milali milale milnar milel asel astil basla sodun sodla bhiti
        vatte vatat vatla kalat kalla samajla samajle mulga mulgi mula mulanna bayko
        navra aai baba dada tai bhau kaka kaki barobar bara chal jau de det detat deto
        shakta shakto shakel lavkar nantar adhi divas mahina mahine ratri sakali ghar
        ghari gharat gavi gav kam kaam paisa paise pagar malak seth tras marla marto
        shivya zop zhop dokyat dukh dukhte khalla khayla jevan jevla sahan hot hotay
        hotoy rahat rahto rahte vichar mhanto mhante mhanala kuthla kuthe kiti kahihi
        nahiye nahiyet adakla adaklo adakle thevla thevun kholit kholi dhanyavad abhar
        sodta sodat bahercha baher
    """,
    "bn": """
        bari ghor gram kaj kaaj taka poisa mayne maine beton malik dada didi bhai bon
        chele meye bou ma baba sahajjo sahajya dorkar chai korbo korchi korche kore
        koren korun korte korlam korbe korecho korche hoyeche hoyche jabo jacchi jete
        jai gelo geche gechi diye dicche dey debe din dao nao nite niye niyeche pabo
        pai paini paina pacchi pelam bolo bolun bolchi bolche bolte bollo bujhi bujhte
        bujhlam bujhchi jani janina janen lagche lagbe laglo bhoy bhalo kharap mon
        shorir ghum khabar khete khaini kheyechi ekta duto moto upor niche bhitore
        baire thik accha acha haan hya naki tobe mash mas din raat shokal bikel ekdom
        atke atkano rekheche rakhche marche mare gali galagali bachao bachan upokar
        dhonnobad dhonyobad ferot fire firte ferar parchi parbo parina pari shunche
        shune shunun bhalo lage lagena icche iccha
    """,
    "as": """
        ghor ghoroloi gaon kam poisa dorma dormaha malik dada baideu bhai bhonti lora
        suwali ma deuta sohay dorkar lage lagise lagibo korim kori korise koribo korok
        koriche korisil hoise hol hobo ase asu asil jam jabo gol gaise jai dibo diya
        dise diyok dia lobo loi pam pua pala paisu kobo koise kok kobi bujisu bujibo
        bujiba jana nejanu najanu bhoy bhal beya mon ga khua khuwa khaisu khabo bisaru
        bisarisu nuwaru nowaru pora pisot agot dinot rati puwa rakhise bondho kothat
        kotha xuna xunisu xunibo nuxune bosao bosaok upokar dhonyobad dhonyabad
        oxomiya axomiya ketia kiba kiba eta duta
    """,
    "or": """
        ghara gaan kama tanka darama dorma malik bhai apa nana bou pua jhia pila
        pilamane sahajya darkar darakar chahunchi karibi karuchi karantu kara karibaku
        karuchanti heba heichi jibi jauchi gala gale jiba jibaku deba dei deuni
        deuchi dia diantu dianti deunahanti neba nei neichi paibi paini paichi milibo
        miliba milila kahantu kahuchi kahile kahibi bujhili bujhi bujhiparuni jani
        janini laguchi laga bhaya dara bhala kharap kharapa mana deha khaibi khaini
        khaichi khaibaku gote dui pain paain sahita saha upare bhitare bahare bahariku
        thik hau haan masa dina rati sakala bandha rakhichanti marile maruchi gali
        bachao bachantu dhanyabad upakar sununahanti sunuchi sunantu hajigala kouthu
        kahaku kana bhalalaguni asini asila
    """,
    "gu": """
        ghar ghare gaam kaam kam paisa pagar sheth shet malik bhai ben bahen dikro
        dikri chokro chokri chokrao madad joie joiye joiae karo karu karvu karvi kari
        kare karyu karse karjo jau javu jaish jaie gayo gai gayu gaya aavyo aavi avi
        aavo aapo aapyo aape apta aapta aapish aapse lai lidhu lidho malse malyo malyu
        male bolo bole kaho kahe kahyu samjo samjatu samjai samjay khabar bik dar lage
        lagyu saru sari kharab man tabiyat khadhu khava khavanu ek be tran sathe mate
        barabar ha haa dukh takleef heran marse mare gaal gaalo bachavo bachao aabhar
        abhar puri purya rakhya rakhyo divas mahina mahine raat savare sambhalatu
        sambhalo vaat vat thay thayu thatu nathi nahi rahyo rahi rahyu
    """,
    "pa": """
        ghar pind kamm kam paise tankhah tankhaah malak veer veerji bhaji bhenji bhra
        munda kudi kuri bache bacheyan madad chahidi chahida chahide karo karna karni
        karan karda kardi karde kita kiti hoya hoyi hoi gaya gayi gaye gey jana jaana
        jaan jaanda jandi aaya aayi aunda aundi dita diti dinda dinde dindi de deo
        dewanga leya lai lao mil milu milange mili milda dasso das dasseyo samajh
        samjh pata darr dar lagda lagdi changa theek thik vadiya vadhiya dil khadha
        khana roti rakheya rakhya rakhyaa band kamre kamra kutt kuttda gaal gaalan
        bardasht hunda hundi honda sunda sunde sundi bacha bachao dhanwad dhanvaad
        shukriya mahine mahina din raat sawere kehnda kehndi kehnde gal gallan
        ho gaya hoyea jeena dukh
    """,
    "ta": """
        oor ooru veedu veetuku vela velai kaasu kasu panam sambalam mudhalali
        muthalali anna akka thambi thangachi amma appa paiyan ponnu pasanga kulandhai
        kolandhai udhavi venum vendum pannunga pannu pannanum panren pannala pannren
        pannradhu sollunga sollu solran solla sonnaan sonnanga kudunga kudu tharala
        tharen thara vaanga vaa po ponga poganum poren pochu ponanga vandhu vanthen
        varala varum varuthu iruku irukku irukken irundhu irukanga irukom theriyala
        theriyum puriyala purinjuthu purinjudhu mudiyala mudiyathu mudiyuma bayama
        bayam kashtam kashtama manasu udambu saptiya saapadu saapidala saptala sari
        seri adichaan adikiraan adikkiranga thitturanga maatikiten maatikitom
        adachu adaichu vachirukanga pudichu pudichittu kaapathunga kaapathu nandri
        naalu moonu rendu naala masam masama maasama nethu naalaiku rathiri kalaila
        kandukala kekkala kekala yaarum ennala thaanga pesanum pesa pesunga
    """,
    "te": """
        ooru illu intiki inti pani dabbulu jeetham jeetam yajamani anna akka tammudu
        chelli amma nanna abbayi ammayi pillalu sahayam kavali kaavali cheyandi
        cheyyandi cheyali chesaru chesanu chestunnaru chey cheppandi cheppu cheppanu
        ivvandi ivvaledu ivvatledu istanu ista istunnaru tisukondi teesukovali
        vellali vellanu vellipoyadu vellipovali vastundi vachindi raledu vachanu
        ardham ayyindi kavatledu telusu teliyadu bhayam bhayanga badha baadha
        manasu ontlo bagaledu bagundi tinaledu tinnava annam sare alage nelalu
        nelalu rojulu roju ninna repu ratri podduna kottadu kodutunnadu tidutunnadu
        bandhincharu kapadandi kapadu dhanyavadalu thanks matladali matladandi
        vinatledu pattinchukovatledu bharinchalenu cheyalo emi cheyali entha
    """,
    "kn": """
        ooru mane kelsa kelasa duddu sambala anna akka tamma thangi amma appa maga
        magalu makkalu sahaya beku bekagide maadi madi maadtini madbeku madtira heli
        helu helthini kodi kodu kottilla kodtilla kodtini tagoli hogbeku hogi hoda
        hodru hogide banni bandilla barutte ittu artha aytu aaytu agtilla gottilla
        gottu bhaya bejaar bejar manassu hushar tindilla oota sari houdu hu tingalu
        tingalinda dina dinadinda ratri belige hodeetane baitane koodi hakiddare
        kapadi sahisoke agalla agtide matadbeku matadi kelthilla keltilla dhanyavada
        dhanyavadagalu sigutte sigalla bidtilla
    """,
    "ml": """
        naadu naatil veedu veettil pani joli paisa kaash kaasu shambalam muthalali
        chetta chettan chechi aniyan aniyathi amma achan mon mol kuttikal pillar
        pillerude sahayam venam veno cheyyamo cheyyu cheyyanam cheythu cheyyum parayu
        paranju parayunnu tharu tharamo thannilla thannittilla tharunnilla tharum
        pokanam poyi pokunnu pokan vannu varunnu vannittilla manassilayi
        manassilayilla ariyilla ariyam pedi pediyakunnu pediyaanu vishamam sankadam
        sukhamilla kazhichu kazhichittilla bhakshanam sheri shari masam masamayi
        divasam divasamayi rathri raavile thallunnu theri vilikkunnu poottiyittu
        muriyil rakshikku rakshikkanam nanni sahikkan pattilla pattunnilla kittum
        kittiyilla kittiyittilla samsarikkanam samsarikkamo mind cheyyunnilla
        bhayankara kelkkunnilla
    """,
}

# Native words that tell Hindi from Marathi and Bengali from Assamese when they share
# a script. Common to both members of a pair words are left out on purpose.
NATIVE: dict[str, str] = {
    "hi": """
        है हैं हूँ हूं था थी थे में मैं मुझे मुझको मेरा मेरी मेरे हम हमें हमारा हमारी
        हमारे आप आपका आपकी आपके आपको तुम तुम्हारा वह वो यह ये उनका उसका उसे उन्हें क्या
        क्यों कैसे कैसा कब कहाँ कहां कितना कौन कोई कुछ सब बहुत नहीं और लेकिन पर से को
        का की के ने भी ही तो अब जब फिर अगर रहा रही रहे गया गई गए दिया दी दो लिया करो
        करना करनी चाहिए चाहिये मिला मिली मिलेगा जाना जाऊं जाऊँ बताओ बताइए बात सुनता
        सुनती    काम मदद अभी कल  दिन महीने वापस क्योंकि इसलिए रखा सकता
        सकते हुआ हुई हुए होता होती होगा यहाँ यहां वहाँ भाई बहन बच्चे लोग थोड़ा ज़्यादा
        ज्यादा जल्दी
    """,
    "mr": """
        आहे आहेत आहोत आहेस नाही नाहीत नको मला मी माझा माझी माझे माझ्या माझं तू तुला
        तुम्ही तुम्हाला तुमचा तुमची तुमचे आम्ही आम्हाला आमचा आमची आमचे त्याला तिला
        त्यांना काय का कसा कशी कसे कसं कुठे कधी किती कोण कोणी कोणीच काही काहीच खूप
        आणि पण म्हणून आता इथे तिथे झाला झाली झाले झालं होता होती होते मदत पाहिजे हवी
        हवे हवंय द्या घ्या सांगा बोला करतो करते करू करायचा करायचं जायचं जायचे आला
        आली गेला गेली दिला दिली घेतला मिळाला मिळाली मिळत मिळेल भीती वाटते कळत मुलगा
        मुलगी मुलं मुलांना   दादा ताई भाऊ बरं  चालेल लवकर नंतर दिवस महिने
         मालक घरी गावी ऐकत देत देतात अडकलो अडकले ठेवलं ठेवलंय धन्यवाद आभार
    """,
    "bn": """
        আমি আমার আমাকে আমরা আমাদের তুমি তোমার তোমাকে আপনি আপনার আপনাকে আপনারা সে ওরা
        কেন কোথায় কবে কখন কিভাবে কীভাবে কেমন কত কেউ কিছু কোনো সব অনেক খুব বেশি না নেই
        আর কিন্তু তাই যদি তাহলে এখন আজ কাল এখানে থেকে জন্য সাথে কাছে আছি আছে আছেন ছিল
        হবে হয় হল হলো হচ্ছে করব করবো করছি করছে করে করুন করতে দিন দাও দিচ্ছে দেয়
        দেবে পাব পাবো পাইনি পাচ্ছি বলুন বলছে বলতে বুঝতে জানি লাগছে ভয় ভালো খারাপ
        মন শরীর বাড়ি টাকা কাজ মালিক দাদা দিদি ভাই ছেলে মেয়ে বাচ্চা সাহায্য দরকার
        চাই যাব যাবো গেছে গেছি খায়নি খাইনি ধন্যবাদ ঠিক আচ্ছা নিয়ে রেখেছে শুনছে
    """,
    "as": """
        মই মোৰ মোক মোলৈ আমাৰ আমাক তোমাৰ তোমাক আপুনি আপোনাৰ আপোনাক আপোনালোক তেওঁ
        তাই তাৰ কিয় ক'ত কেনেকৈ কেতিয়া কিমান কোন কোনো কোনেও একো সকলো বহুত বৰ অলপ
        বেছি নাই নহয় নকৰে নুশুনে আৰু কিন্তু যদি তেন্তে এতিয়া আজি কালি ইয়াত তাত আছে
        আছো আছোঁ আছিল হ'ব হয় হ'ল হৈছে কৰিম কৰিছে কৰক কৰিব কৰিছো দিয়ক দিয়া দিব পাম
        পোৱা পালো কওক কৈছে বুজি জনা ভয় ভাল বেয়া মন গা ঘৰ ঘৰলৈ পইচা কাম দৰমহা মালিক
        দাদা বাইদেউ ল'ৰা ছোৱালী সহায় লাগে লাগিছে যাম যাব গ'ল গৈছে খোৱা নাখালো
        ধন্যবাদ ঠিক বাৰু লৈ ৰাখিছে শুনা বিচাৰো
    """,
}

# Verb forms, written as stems x endings because chat is full of inflected verbs that
# no short list covers. Joins are approximate (sandhi is ignored); after folding they
# land close enough to what people type, and a few non-words do no harm.
PARADIGMS: dict[str, tuple[str, str]] = {
    "hi": (
        "kar de le ja aa bol sun samajh mil rakh chal dekh puch bata so kha pi reh "
        "bhej nikal maar lag sak chah",
        "ta ti te na ni ne o iye ega egi enge unga ungi oge ega a i e ya yi ye kar vana vaya",
    ),
    "mr": (
        "kar de ghe ja ye bol aik samaj mil thev chal bagh vichar sang kha pi rah "
        "pathav kadh mar vat shak",
        "to te tat tos la li le lo lat u un aycha aychi ayche aycha nar naar el ta tay toy",
    ),
    "bn": (
        "kor de ne ja as bol shun bujh pa rakh chol dekh jigges khe thak pathi mar lag par",
        "i o e chi che cho chen chilo chilam lam lo le bo be ben te ini ina un en echi eche echo",
    ),
    "as": (
        "kor di lo ja ah ko xun buj pa rakh dekh sudh kha thak pothi mar lag par",
        "o a e u ise isu ilu ile ibo ibi im am ok ilo isil ibole iboloi",
    ),
    "or": (
        "kar de ne ja as kah sun bujh pa rakh chal dekh pachar kha rah pathe mar lag par mil",
        "ibi ibu iba ibe ila ile ili uchi uchu uchanti anti antu ichi ichanti ithili "
        "ibaku uni unahanti",
    ),
    "gu": (
        "kar aap lai ja aav bol sambhal samaj mal rakh chal jo puch kah kha pi reh "
        "mokal mar lag shak",
        "u ujo vu vanu vani e se yo yu i ish ta ti to tu vo vi je jo iye",
    ),
    "pa": (
        "kar de lai ja aa bol sun samajh mil rakh chal dekh puch dass kha pi reh "
        "bhej kadh maar lag sak chah",
        "da di de na ni ne o ange anga angi ya yi ye eya iyo ke",
    ),
    "ta": (
        "pann soll kud va po iru theri puri mudi saapd pes kel paar vaang thar adi kaapath",
        "unga u anum ren ran ranga ala um en inen inan inanga ittu ikittu iten ura uren iruku",
    ),
    "te": (
        "chey chepp iv ist vell vach ra un tin chus vin adug matlad kott tid pamp kapad",
        "andi anu aru adu indi ali aledu atledu tunnanu tunnaru tunnadu tanu tavu tundi ochu",
    ),
    "kn": (
        "maad hel kod hog bar tind kel nod kar bid hod bai sig kapad",
        "i u beku tini tira tare tane tale de du dru illa tilla tide oke ali tini ta bittru",
    ),
    "ml": (
        "chey para thar pok var kazhik kel kaan vilik samsarik thall sahik edukk",
        "unnu unnilla anam amo um u yi nnu illa ittilla ittu an anda uka",
    ),
}
